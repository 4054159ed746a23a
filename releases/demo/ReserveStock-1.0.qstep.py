from wf import QorusNormalStep


class ReserveStock(QorusNormalStep):
    """Reserves every order line; retried (STOCK-UNAVAILABLE) while a line is back-ordered.

    The reservation is kept in the order's dynamic data, so a step re-run after a crash sees it
    in validation() and does not reserve twice.
    """

    def primary(self):
        order = wfapi.getStaticData()
        short = [ln["sku"] for ln in order["lines"] if ln.get("backorder")]
        if short:
            wfapi.stepError("STOCK-UNAVAILABLE", {"short": short})
            return
        wfapi.updateDynamicData({"reservation": "RES-%s" % order["order_id"]})
        UserApi.logInfo("order %s: %d lines reserved", order["order_id"], len(order["lines"]))

    def validation(self):
        # a reservation saved before a crash means the step already did its work
        return OMQ.StatComplete if wfapi.getDynamicData("reservation") else OMQ.StatRetry
