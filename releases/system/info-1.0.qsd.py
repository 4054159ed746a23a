"""The ``info`` system service: what the server is, its options in force and its orders.

Written with the service API every user service has: everything it answers comes from the
system's own REST API in-process (``UserApi.callRestApi``), which masks secrets, and from
``UserApi.getSystemInfo()``.
"""

from svc import QorusService


class InfoService(QorusService):
    def getSystemInfo(self):
        return UserApi.getSystemInfo()

    def getOptions(self, *names):
        if len(names) == 1 and isinstance(names[0], (list, tuple)):
            names = tuple(names[0])
        options = UserApi.callRestApi("GET", "system/options")
        values = {o["name"]: o["value"] for o in options}
        if not names:
            return values
        out = {}
        for name in names:
            full = name if "." in str(name) else "qorus.%s" % name
            out[name] = values.get(full, values.get(name))
        return out

    def getOrderInfo(self, workflow_instanceid):
        return UserApi.callRestApi("GET", "orders/%s" % int(workflow_instanceid))
