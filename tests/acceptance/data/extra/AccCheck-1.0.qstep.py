from wf import QorusNormalStep


class AccCheck(QorusNormalStep):
    def primary(self):
        if not wfapi.getStaticData("ok"):
            wfapi.stepError("CHECK-FAILED", "the order is not ok")
            return
        wfapi.updateDynamicData({"checked": True})
