"""The one PDF stack (reportlab): the embedded CJK font, the palette and page geometry, the
paragraph and table helpers, and the document builder. No Django.

The printed forms (:mod:`certhall.forms`) and the payment receipts
(:mod:`certhall.payments.receipts`) are both drawn with it, so every PDF of the platform embeds
the same font, and no unembedded standard font appears (``pdffonts`` lists one font).
"""
