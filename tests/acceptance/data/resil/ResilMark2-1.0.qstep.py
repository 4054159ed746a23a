from wf import QorusNormalStep


class ResilMark2(QorusNormalStep):
    def primary(self):
        ResilMarker.run("ResilMark2")
