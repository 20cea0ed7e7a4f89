module tplpeer

go 1.19
