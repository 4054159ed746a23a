from wf import QorusNormalStep


class ValidateOrder(QorusNormalStep):
    """Rejects incomplete orders and makes the order searchable by its keys."""

    def primary(self):
        order = wfapi.getStaticData()
        missing = OrderRules.missing_fields(order)
        if missing:
            wfapi.stepError("INVALID-ORDER", {"missing": missing})
            return
        if OrderRules.line_total(order["lines"]) != round(float(order["total"]), 2):
            wfapi.stepError("INVALID-ORDER", {"reason": "total does not match the lines"})
            return
        wfapi.setOrderKeys({"order_id": str(order["order_id"]),
                            "customer_id": str(order["customer_id"])})
        UserApi.logInfo("order %s is valid", order["order_id"])
