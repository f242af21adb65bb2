"""The certificate fee refund programme (数字证书费用返还, seed 000): programmes, fee and usage
records, eligibility, online and counter applications, review, payout batches and progress.

See docs/refunds.md."""
