import time

from wf import QorusNormalStep


class LogTalker(QorusNormalStep):
    def primary(self):
        ref = str(wfapi.getStaticData("ref") or "none")
        for i in range(3):
            UserApi.logInfo("talker %s line %d", ref, i)
            time.sleep(0.1)
