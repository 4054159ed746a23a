from wf import QorusNormalStep


class IssueInvoice(QorusNormalStep):
    """Creates the invoice once the payment went through."""

    def primary(self):
        order = wfapi.getStaticData()
        payment = wfapi.getDynamicData("payment_ref")
        wfapi.updateDynamicData({"invoice": {"number": "INV-%s" % order["order_id"],
                                             "payment_ref": payment,
                                             "total": order["total"]}})
