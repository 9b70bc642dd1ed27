//! Integration tests: the real server on an ephemeral loopback port, real
//! gRPC clients, real processes. One binary, one module per concern.

mod bad_input;
mod common;
mod crash;
mod dialogues;
mod end_to_end;
mod health;
mod operations;
mod queue;
mod security;
mod subscribers;
mod telemetry;
mod worker_faults;
