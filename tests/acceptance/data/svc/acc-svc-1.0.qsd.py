from svc import QorusService


class AccError(Exception):
    err = "ACC-FAILURE"


class AccSvc(QorusService):
    def init(self):
        self.count_now = (svcapi.getStateData() or {}).get("count", 0)
        UserApi.logInfo("acc-svc loaded with count %d", self.count_now)

    def hello(self, who="world"):
        UserApi.logInfo("hello %s", who)
        return "hello %s" % who

    def count(self):
        self.count_now += 1
        svcapi.saveStateData({"count": self.count_now})
        return self.count_now

    def fail(self, why="on purpose"):
        raise AccError("failed %s" % why)

    def whoami(self):
        return svcapi.getCallContext()

    def secret(self):
        return "never from outside"
