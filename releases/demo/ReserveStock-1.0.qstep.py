from wf import QorusNormalStep


class ReserveStock(QorusNormalStep):
    """Reserves every order line; retried (STOCK-UNAVAILABLE) while stock is short."""

    def primary(self):
        order = wfapi.getStaticData()
        res = UserApi.callRestApi(
            "PUT", "services/order-inventory/reserve/call",
            {"args": [order["order_id"], order["lines"]]},
        )
        if not res.get("reserved"):
            wfapi.stepError("STOCK-UNAVAILABLE", res)
            return
        wfapi.updateDynamicData({"reservation": res["reservation"]})

    def validation(self):
        # a reservation saved before a crash means the step already did its work
        return OMQ.StatComplete if wfapi.getDynamicData("reservation") else OMQ.StatRetry
