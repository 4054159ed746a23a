from wf import QorusNormalStep


class AccFirst(QorusNormalStep):
    def primary(self):
        ref = str(wfapi.getStaticData("ref") or "none")
        wfapi.setOrderKey("ref", ref)
        wfapi.updateDynamicData({"first": ref})
