// profgen writes real Go runtime profiles for Ember's interop tests.
//
// Usage: profgen OUTDIR [cpu-seconds]
//
// It writes, with the standard runtime/pprof writers (gzip-compressed profile.proto):
//
//	cpu.pb.gz        CPU profile of known hot functions (hotA:hotB:hotC flat ~ 4:2:1)
//	cpu1..cpu4.pb.gz short CPU profiles of the same workload (for merge tests)
//	labels.pb.gz     CPU profile whose work runs under pprof.Do labels worker=alpha|beta
//	heap.pb.gz       heap profile (MemProfileRate 1, so values are exact) of known allocations
//	goroutine.pb.gz  goroutine profile with labelled goroutines
//	block.pb.gz      block profile (channel waits)
//	mutex.pb.gz      mutex profile (contended sync.Mutex)
//
// Only the standard library is used, so it builds with GO111MODULE=off and no network.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"
)

var sink uint64

//go:noinline
func spin(n int) uint64 {
	var x uint64 = 1
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		x ^= x >> 29
	}
	return x
}

// hotA, hotB and hotC burn CPU in their own bodies (flat time), in the ratio 4:2:1.
//
//go:noinline
func hotA() {
	var x uint64 = 3
	for i := 0; i < 6000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		x ^= x >> 31
	}
	sink += x
}

//go:noinline
func hotB() {
	var x uint64 = 5
	for i := 0; i < 3000; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		x ^= x >> 27
	}
	sink += x
}

//go:noinline
func hotC() {
	var x uint64 = 7
	for i := 0; i < 1500; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		x ^= x >> 23
	}
	sink += x
}

//go:noinline
func leafShared(n int) { sink += spin(n) }

//go:noinline
func viaX() { leafShared(1500) }

//go:noinline
func viaY() { leafShared(500) }

// recurse makes a stack in which one function appears several times (cum counted once).
//
//go:noinline
func recurse(depth int) {
	if depth == 0 {
		sink += spin(800)
		return
	}
	recurse(depth - 1)
}

func work(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for i := 0; i < 50; i++ {
			hotA()
			hotB()
			hotC()
			viaX()
			viaY()
			recurse(3)
		}
	}
}

func cpuProfile(path string, d time.Duration, body func()) {
	f, err := os.Create(path)
	check(err)
	check(pprof.StartCPUProfile(f))
	body()
	pprof.StopCPUProfile()
	check(f.Close())
}

//go:noinline
func alphaWork(d time.Duration) { work(d) }

//go:noinline
func betaWork(d time.Duration) { work(d) }

func labelled(d time.Duration) {
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		pprof.Do(ctx, pprof.Labels("worker", "alpha", "phase", "one"), func(context.Context) {
			alphaWork(d)
		})
	}()
	pprof.Do(ctx, pprof.Labels("worker", "beta"), func(context.Context) {
		betaWork(d / 2)
	})
	wg.Wait()
}

var keep [][]byte

//go:noinline
func allocSmall() {
	for i := 0; i < 1500; i++ {
		keep = append(keep, make([]byte, 64))
	}
}

//go:noinline
func allocLarge() {
	for i := 0; i < 20; i++ {
		keep = append(keep, make([]byte, 1<<20))
	}
}

//go:noinline
func allocTemp() {
	for i := 0; i < 500; i++ {
		b := make([]byte, 4096)
		sink += uint64(b[0])
	}
}

func writeLookup(name, path string) {
	f, err := os.Create(path)
	check(err)
	check(pprof.Lookup(name).WriteTo(f, 0))
	check(f.Close())
}

func contention() {
	var mu sync.Mutex
	var wg sync.WaitGroup
	ch := make(chan int)
	// Contention that does not depend on scheduling luck: while this goroutine holds the lock,
	// others park on it, so every round records mutex (and block) events.
	for r := 0; r < 5; r++ {
		var w sync.WaitGroup
		mu.Lock()
		for g := 0; g < 3; g++ {
			w.Add(1)
			go func() {
				defer w.Done()
				mu.Lock()
				sink++
				mu.Unlock()
			}()
		}
		time.Sleep(5 * time.Millisecond)
		mu.Unlock()
		w.Wait()
	}
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				mu.Lock()
				sink += spin(200)
				mu.Unlock()
			}
		}()
	}
	go func() {
		for i := 0; i < 50; i++ {
			time.Sleep(100 * time.Microsecond)
			ch <- i
		}
		close(ch)
	}()
	for range ch {
	}
	wg.Wait()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "profgen:", err)
		os.Exit(1)
	}
}

func main() {
	runtime.MemProfileRate = 1
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: profgen OUTDIR [cpu-seconds]")
		os.Exit(2)
	}
	dir := os.Args[1]
	secs := 1.5
	if len(os.Args) > 2 {
		v, err := strconv.ParseFloat(os.Args[2], 64)
		check(err)
		secs = v
	}
	check(os.MkdirAll(dir, 0o755))
	d := time.Duration(secs * float64(time.Second))

	cpuProfile(filepath.Join(dir, "cpu.pb.gz"), d, func() { work(d) })
	for i := 1; i <= 4; i++ {
		p := filepath.Join(dir, fmt.Sprintf("cpu%d.pb.gz", i))
		cpuProfile(p, d/6, func() { work(d / 6) })
	}
	cpuProfile(filepath.Join(dir, "labels.pb.gz"), d/2, func() { labelled(d / 2) })

	allocSmall()
	allocLarge()
	allocTemp()
	runtime.GC()
	writeLookup("heap", filepath.Join(dir, "heap.pb.gz"))

	// Goroutines parked under labels, for the goroutine profile.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go pprof.Do(context.Background(), pprof.Labels("pool", "parked"), func(context.Context) {
			defer wg.Done()
			<-stop
		})
	}
	time.Sleep(20 * time.Millisecond)
	writeLookup("goroutine", filepath.Join(dir, "goroutine.pb.gz"))
	close(stop)
	wg.Wait()

	runtime.SetBlockProfileRate(1)
	runtime.SetMutexProfileFraction(1)
	contention()
	writeLookup("block", filepath.Join(dir, "block.pb.gz"))
	writeLookup("mutex", filepath.Join(dir, "mutex.pb.gz"))
}
