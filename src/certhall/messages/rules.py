"""Messages of the business rules (certhall.rules): quotes and the catalog."""

MESSAGES: dict[str, str] = {
    "point_required": "现场办理须选择受理点。",
    "point_not_online": "受理点只适用于现场办理，网上办理无需选择。",
}
