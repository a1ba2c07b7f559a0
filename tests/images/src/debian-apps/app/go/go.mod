module example.com/imgscope-hello

go 1.19
