from svc import QorusService

#: the demo's catalogue and the stock each SKU starts with
CATALOGUE = {"SKU-1": 500, "SKU-2": 500, "SKU-3": 500, "SKU-4": 500}
#: units a supplier delivery adds when a SKU runs short
RESTOCK = 500
#: reservations remembered (by order id) so that reserve() stays idempotent
KEEP = 20000


class OrderInventory(QorusService):
    """Stock levels and reservations, saved in the service's state data: an unload, a reset
    or a restart of the server keeps them.

    reserve() is idempotent per order id: calling it again for an order answers the
    reservation made before, so a step re-run after a crash never reserves twice. A SKU of
    the catalogue running short is restocked from the supplier; an unknown SKU, or a line
    flagged ``backorder``, is short.
    """

    def init(self):
        state = svcapi.getStateData() or {}
        self.stock = state.get("stock") or dict(CATALOGUE)
        self.reservations = state.get("reservations") or {}
        self.seq = int(state.get("seq", 0))
        self.restocks = int(state.get("restocks", 0))
        UserApi.logInfo("inventory loaded: %y; %d reservations", self.stock,
                        len(self.reservations))

    def _save(self):
        svcapi.saveStateData({"stock": self.stock, "reservations": self.reservations,
                              "seq": self.seq, "restocks": self.restocks})

    def available(self, sku):
        return self.stock.get(sku, 0)

    def reservation(self, order_id):
        found = self.reservations.get(str(order_id))
        return found[1] if found else None

    def reserve(self, order_id, lines):
        key = str(order_id)
        if key in self.reservations:
            return {"reserved": True, "reservation": self.reservations[key][1]}
        short = [ln["sku"] for ln in lines if ln.get("backorder") or ln["sku"] not in self.stock]
        if short:
            return {"reserved": False, "short": short}
        for ln in lines:
            qty = int(ln["qty"])
            while self.stock[ln["sku"]] < qty:
                self.stock[ln["sku"]] += RESTOCK
                self.restocks += 1
                UserApi.logInfo("%s restocked with %d units", ln["sku"], RESTOCK)
            self.stock[ln["sku"]] -= qty
        self.seq += 1
        self.reservations[key] = [self.seq, "RES-%s" % key]
        if len(self.reservations) > KEEP:
            oldest = sorted(self.reservations, key=lambda k: self.reservations[k][0])
            for k in oldest[: len(self.reservations) - KEEP]:
                del self.reservations[k]
        self._save()
        return {"reserved": True, "reservation": self.reservations[key][1]}

    def figures(self):
        return {"stock": dict(self.stock), "reservations": self.seq,
                "restocks": self.restocks}
