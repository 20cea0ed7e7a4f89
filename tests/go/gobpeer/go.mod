module gobpeer

go 1.19
