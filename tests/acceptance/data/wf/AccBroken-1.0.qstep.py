from wf import QorusNormalStep


class AccBroken(QorusNormalStep):
    def primary(self):
        raise ValueError("the step is broken")
