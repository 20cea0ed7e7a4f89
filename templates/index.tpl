<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>counter</title></head>
<body>
{{if .flash.notice}}<p id="flash">{{.flash.notice}}</p>{{end}}
{{if .username}}<p id="user">Hello, {{.username}}</p>{{end}}
<p id="num">{{.num}}</p>
<p><a href="/">count</a> | <a href="/login">login</a> | <a href="/logout">logout</a></p>
</body>
</html>
