from wf import QorusNormalStep


class AccSelfCall(QorusNormalStep):
    def primary(self):
        key = UserApi.callRestApi("GET", "system/instance-key")
        me = UserApi.callRestApi("GET", "/api/v7/orders/%d" % wfapi.getWfiid())
        child = UserApi.execSynchronousWorkflow("ACC-CHECK", {"ok": True})
        info = UserApi.getSystemInfo()
        wfapi.updateDynamicData(
            {
                "instance_key": key,
                "my_status": me["workflowstatus"],
                "child": child["status"],
                "session": info["session-id"],
            }
        )
