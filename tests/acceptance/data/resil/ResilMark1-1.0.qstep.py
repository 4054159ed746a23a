from wf import QorusNormalStep


class ResilMark1(QorusNormalStep):
    def primary(self):
        ResilMarker.run("ResilMark1")
