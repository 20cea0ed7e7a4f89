module formpeer

go 1.19
