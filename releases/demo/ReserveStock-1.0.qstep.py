from wf import QorusNormalStep


class ReserveStock(QorusNormalStep):
    """Reserves every order line with the order-inventory service; retried
    (STOCK-UNAVAILABLE) while a line is short.

    The stock and the reservation live in the service, whose reserve() is idempotent per order
    id: a step re-run after a crash asks the service in validation() whether the order's
    reservation exists, and never reserves twice.
    """

    def primary(self):
        order = wfapi.getStaticData()
        res = UserApi.callService("order-inventory", "reserve", order["order_id"], order["lines"])
        if not res["reserved"]:
            wfapi.stepError("STOCK-UNAVAILABLE", {"short": res["short"]})
            return
        wfapi.updateDynamicData({"reservation": res["reservation"]})
        UserApi.logInfo("order %s: %d lines reserved (%s)", order["order_id"],
                        len(order["lines"]), res["reservation"])

    def validation(self):
        # a reservation the service made before a crash means the step already did its work
        order = wfapi.getStaticData()
        found = UserApi.callService("order-inventory", "reservation", order["order_id"])
        if found:
            wfapi.updateDynamicData({"reservation": found})
            return OMQ.StatComplete
        return OMQ.StatRetry
