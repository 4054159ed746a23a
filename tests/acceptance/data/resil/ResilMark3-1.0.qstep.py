from wf import QorusNormalStep


class ResilMark3(QorusNormalStep):
    def primary(self):
        ResilMarker.run("ResilMark3")
