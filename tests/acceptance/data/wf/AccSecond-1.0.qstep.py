from wf import QorusNormalStep


class AccSecond(QorusNormalStep):
    def primary(self):
        wfapi.updateDynamicData({"second": True})
