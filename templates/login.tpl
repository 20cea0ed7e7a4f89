<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>login</title></head>
<body>
<p id="user">Logged in as {{.username}}</p>
<p><a href="/">count</a> | <a href="/logout">logout</a></p>
</body>
</html>
