from svc import QorusService


class AccBad(QorusService):
    def init(self):
        raise RuntimeError("acc-bad cannot start")

    def ping(self):
        return "pong"
