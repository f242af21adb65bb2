"""The public portal (issue 11): the business guide (办事指南) rendered from the rules catalog,
notices (公告), visitors' questions (咨询), FAQ and usage guides (常见问题, 证书使用指引),
downloads (下载) and one search across them in either script. See docs/portal.md."""
