<!DOCTYPE html>
<html>
<head><meta charset="utf-8"><title>logout</title></head>
<body>
<p id="bye">Logged out</p>
{% if ended is defined %}<p id="ended">Sessions ended: {{ ended }}</p>{% endif %}
<p><a href="/">count</a> | <a href="/login">login</a></p>
</body>
</html>
