from wf import QorusNormalStep


class ChargePayment(QorusNormalStep):
    """Charges the order total; a declined card is a business error."""

    def primary(self):
        order = wfapi.getStaticData()
        if order.get("payment", {}).get("declined"):
            wfapi.stepError("PAYMENT-DECLINED", {"order_id": order["order_id"]})
            return
        wfapi.updateDynamicData({"payment_ref": "PAY-%s" % order["order_id"]})

    def validation(self):
        return OMQ.StatComplete if wfapi.getDynamicData("payment_ref") else OMQ.StatRetry
