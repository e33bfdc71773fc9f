// scrapetarget is a Go service with net/http/pprof for Ember's scrape tests.
//
// Usage: scrapetarget ADDR   (e.g. 127.0.0.1:0; prints "listening on HOST:PORT" when ready)
//
// It serves /debug/pprof/* (the standard net/http/pprof handlers) and, in the background:
//   - burns CPU in main.hotLoop (one goroutine, about half a core: the CPU profile's hot function);
//   - allocates in main.allocate (some kept alive, so heap inuse and alloc both grow);
//   - parks 16 goroutines in main.parked (goroutine profile), waiting on a channel (block);
//   - contends a sync.Mutex in main.contend (mutex profile; fraction 1, block rate 1).
//
// Only the standard library is used, so it builds with GO111MODULE=off and no network.
package main

import (
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"sync"
	"time"
)

var sink uint64

//go:noinline
func hotLoop() {
	var x uint64 = 7
	for {
		for i := 0; i < 1000000; i++ {
			x = x*6364136223846793005 + 1442695040888963407
			x ^= x >> 29
		}
		sink += x
		// Half a core is plenty to dominate this program's CPU profile, and kinder to a
		// shared test machine than a whole one.
		time.Sleep(2 * time.Millisecond)
	}
}

var kept [][]byte

//go:noinline
func allocate() {
	for i := 0; ; i++ {
		b := make([]byte, 64<<10)
		b[0] = byte(i)
		if i%4 == 0 {
			kept = append(kept, b)
			if len(kept) > 256 {
				kept = kept[1:]
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
}

//go:noinline
func parked(ch chan struct{}) {
	<-ch
}

var mu sync.Mutex

//go:noinline
func contend() {
	for {
		mu.Lock()
		time.Sleep(time.Millisecond)
		mu.Unlock()
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: scrapetarget ADDR")
		os.Exit(2)
	}
	runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(1)
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	go hotLoop()
	go allocate()
	never := make(chan struct{})
	for i := 0; i < 16; i++ {
		go parked(never)
	}
	go contend()
	go contend()
	fmt.Printf("listening on %s\n", ln.Addr().String())
	os.Stdout.Sync()
	fmt.Fprintln(os.Stderr, http.Serve(ln, nil))
	os.Exit(1)
}
