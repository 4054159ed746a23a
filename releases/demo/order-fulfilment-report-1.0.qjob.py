from job import QorusJob


class OrderFulfilmentReport(QorusJob):
    """Counts the ORDER-FULFILMENT orders completed since the previous run."""

    def run(self):
        state = jobapi.getPersistentStateData() or {}
        since = state.get("last_run")
        started = jobapi.getInfo()["started"]
        args = {"status": "COMPLETE", "limit": 10000}
        if since:
            args["modified"] = since
        orders = UserApi.callRestApi("GET", "workflows/ORDER-FULFILMENT/orders", args) or []
        jobapi.saveInfo({"shipped": len(orders), "since": since})
        UserApi.logInfo("%d orders shipped since %s", len(orders), since or "the start")
        jobapi.savePersistentStateData({"last_run": started.isoformat()})
