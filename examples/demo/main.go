// hello: the small program the demo publishes, rebuilds and compares.
package main

import "fmt"

var banner = "hello from the rebuild-compare demo"

func main() { fmt.Println(banner) }
