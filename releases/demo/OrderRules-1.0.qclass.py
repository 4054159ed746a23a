"""Order rules shared by the order fulfilment steps (a library class named in ``classes:``)."""


class OrderRules:
    REQUIRED = ("order_id", "customer_id", "lines", "total")

    @staticmethod
    def missing_fields(order: dict) -> list:
        return [f for f in OrderRules.REQUIRED if f not in order]

    @staticmethod
    def line_total(lines: list) -> float:
        return round(sum(float(ln["qty"]) * float(ln["price"]) for ln in lines), 2)
