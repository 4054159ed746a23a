from wf import QorusNormalStep


class ShipOrder(QorusNormalStep):
    """Books the shipment once stock is reserved and the invoice exists."""

    def primary(self):
        order = wfapi.getStaticData()
        carrier = wfapi.getOption("shipping-carrier") or "demo-carrier"
        tracking = "%s-%s" % (carrier.upper(), order["order_id"])
        wfapi.updateDynamicData({"shipment": {"carrier": carrier, "tracking": tracking}})
        UserApi.logInfo("order %s shipped with %s: %s", order["order_id"], carrier, tracking)
