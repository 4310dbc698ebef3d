//go:build !linux

package main

import (
	"context"
	"time"
)

// receiver needs epoll: elsewhere the tool only reports that it cannot run.
type receiver struct{}

func newReceiver(recvConfig) (*receiver, error)                              { return nil, errNoLinux }
func (*receiver) connect(context.Context)                                    {}
func (*receiver) progress() progress                                         { return progress{} }
func (*receiver) drain(context.Context, []int64, time.Duration) workerResult { return workerResult{} }
func (*receiver) close()                                                     {}
