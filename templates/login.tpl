<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>login</title></head>
<body>
{{if .flash.error}}<p id="flash" class="error">{{.flash.error}}</p>{{end}}
<form id="login" method="post" action="/login">
{{.xsrfdata}}
<label>User <input id="username" name="username" value="astaxie"></label>
<button id="submit" type="submit">Log in</button>
</form>
<p><a href="/">count</a> | <a href="/logout">logout</a></p>
</body>
</html>
