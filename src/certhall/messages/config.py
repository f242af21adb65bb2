"""The words of a setting that stops the start (``certhall.config``)."""

MESSAGES: dict[str, str] = {
    "setting_rate": (
        "{name} 须写成“次数/秒数”（1-100000 次，1-86400 秒），例如 20/60，而不是 {value!r}。"
    ),
}
