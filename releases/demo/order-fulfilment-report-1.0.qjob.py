from job import QorusJob


class OrderFulfilmentReport(QorusJob):
    """Counts the ORDER-FULFILMENT orders completed since the previous run."""

    def run(self):
        state = jobapi.getPersistentStateData() or {}
        since = state.get("last_run")
        args = {"workflow": "ORDER-FULFILMENT", "status": "COMPLETE"}
        if since:
            args["modified"] = since
        orders = UserApi.callRestApi("GET", "orders", args) or []
        jobapi.saveInfo({"shipped": len(orders), "since": since})
        jobapi.savePersistentStateData({"last_run": UserApi.getSystemInfo().get("time")})
