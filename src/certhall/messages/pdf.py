"""Messages of pdf (certhall.pdf)."""

MESSAGES: dict[str, str] = {
    "font_missing": "缺少中文字体 {path}：请用 `apt-get install fonts-wqy-microhei` 安装。",
}
