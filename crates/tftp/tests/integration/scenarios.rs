//! Named behaviours of the engine, each driven through the simulated channel.
