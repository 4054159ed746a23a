from wf import QorusNormalStep


class AccSensRead(QorusNormalStep):
    def primary(self):
        info = wfapi.getSensitiveDataFromAlias("person", "tax_number")
        tax = info["value"]
        wfapi.updateDynamicData({"tax_len": len(tax), "skey": info["skey"]})
        wfapi.updateSensitiveData(info["skey"], info["svalue"], {"seen": True})
        UserApi.logInfo("checked the sensitive data of key %s", info["skey"])
