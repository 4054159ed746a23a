from svc import QorusService


class OrderInventory(QorusService):
    """In-memory stock with reservations, saved in the service state so restarts keep it."""

    def init(self):
        state = svcapi.getStateData() or {}
        self.stock = state.get("stock", {"SKU-1": 100, "SKU-2": 25, "SKU-3": 0})
        self.reservations = state.get("reservations", {})

    def available(self, sku):
        return self.stock.get(sku, 0)

    def reserve(self, order_id, lines):
        key = str(order_id)
        if key in self.reservations:
            return {"reserved": True, "reservation": self.reservations[key]}
        short = [ln["sku"] for ln in lines if self.stock.get(ln["sku"], 0) < ln["qty"]]
        if short:
            return {"reserved": False, "short": short}
        for ln in lines:
            self.stock[ln["sku"]] -= ln["qty"]
        self.reservations[key] = "RES-%s" % key
        svcapi.saveStateData({"stock": self.stock, "reservations": self.reservations})
        return {"reserved": True, "reservation": self.reservations[key]}
