<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>logout</title></head>
<body>
<p id="bye">Logged out</p>
{{if not_nil .ended}}<p id="ended">Sessions ended: {{.ended}}</p>{{end}}
<p><a href="/">count</a> | <a href="/login">login</a></p>
</body>
</html>
