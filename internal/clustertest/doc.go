// Package clustertest runs ssehub as a cluster of real processes and
// checks what a cluster promises: three nodes of the ssehub binary on
// 127.0.0.1, each on its own port, share one Redis or one NATS JetStream,
// and clients spread across them see every event exactly once, in order,
// and never another tenant's.
//
// The package has no API; it is only tests. They build cmd/ssehub once,
// start every node as a child process (without the race detector, so the
// timings resemble production), read streams with [github.com/ssehub/ssehub/sse.Decoder] and
// compare what each client received with a model computed from the
// publish log: the ids the nodes answered 202 with, and each client's
// tenant, user and channels.
//
// The tests cover:
//
//   - delivery: publishes on random nodes reach exactly the right
//     connections on every node, once, in log order; tenants stay
//     isolated;
//   - resume on another node: clients cut at random points reconnect to a
//     different node with Last-Event-ID and lose nothing;
//   - node failure: a node is killed with SIGKILL while events flow, its
//     clients fail over to the other nodes and resume with zero loss;
//   - engine failure: the Redis or NATS server is killed and restarted on
//     the same data: nodes keep their streams, answer 503 on /readyz and
//     on publish while it is away, recover by themselves, and clients
//     resume with zero loss (and get sse:reset when the engine lost its
//     data, as Redis without persistence does);
//   - the control plane: per-user limits across nodes (sse:evicted for the
//     oldest connection wherever it lives), subscription changes sent to a
//     node that does not hold the connection, stats gathered from every
//     node, admin disable and enable everywhere;
//   - BenchmarkCrossNode measures cross-node latency and throughput for
//     docs/scaling.md.
//
// A few tests pin down defects they found:
// TestReadyCarriesLogPositionOnFreshNode, TestResumeOnLaggingNode,
// TestSubscribeRightAfterReady, TestResumeWhileEngineDown and
// TestRedisRollback (fixed), and TestUserLimitAfterNodeCrash (open; see
// "Known gaps" in docs/scaling.md).
//
// # Engines
//
// Most tests use the shared Redis (SSEHUB_TEST_REDIS_URL, default
// redis://127.0.0.1:6379/0) and NATS (SSEHUB_TEST_NATS_URL, default
// nats://127.0.0.1:4222) with a random prefix or stream per test, deleted
// at cleanup. The engine-failure tests start their own redis-server and
// nats-server processes on free ports, so that killing them disturbs
// nothing else. When an engine or a server binary is missing the tests
// skip with a loud message, or fail when the CI environment variable is
// set.
//
// # Running
//
//	go test -race -count=1 ./internal/clustertest/
//	go test -run '^$' -bench CrossNode -benchtime 2000x ./internal/clustertest/
package clustertest
