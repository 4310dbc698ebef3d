module github.com/ssehub/ssehub

go 1.26
