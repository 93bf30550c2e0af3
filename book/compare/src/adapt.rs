//! The macros behind `stages.rs`: an adapter type per stage, implementing
//! the traits of `rt.rs` by calling the stage's own functions.

/// Expands the list in `stages.rs` into a module per stage holding its
/// adapter type, and `pub fn stages() -> Vec<Entry>`.
macro_rules! stages {
    ($($name:literal => $krate:ident [$($cap:ident),*];)*) => {
        $(
            /// The adapter of a stage: a module named after its crate
            /// (which `::crate_name` paths still reach).
            pub mod $krate {
                /// The stage, as the traits of `rt.rs` see it.
                pub struct Stage;
                adapt!(Stage, $krate, rt);
                $(adapt!(Stage, $krate, $cap);)*
            }
        )*

        /// The stages, in order.
        pub fn stages() -> Vec<$crate::entry::Entry> {
            vec![$(
                $crate::entry::Entry::new($name, $crate::entry::Kind::Stage)
                    .rt::<$krate::Stage>()$(.$cap::<$krate::Stage>())*
            ),*]
        }
    };
}

/// Implements one capability's trait for a stage's adapter type.
macro_rules! adapt {
    ($stage:ident, $krate:ident, rt) => {
        impl $crate::rt::Rt for $stage {
            fn block_on<F>(fut: F) -> F::Output
            where
                F: std::future::Future + 'static,
                F::Output: 'static,
            {
                $crate::rt::block_on_with(|task| ::$krate::run(vec![task]), fut)
            }

            fn run_all<F: std::future::Future<Output = ()> + 'static>(futs: Vec<F>) {
                ::$krate::run(futs.into_iter().map(::$krate::task).collect());
            }

            fn yield_now() -> impl std::future::Future<Output = ()> {
                ::$krate::yield_now()
            }
        }
    };
    ($stage:ident, $krate:ident, sleep) => {
        impl $crate::rt::Sleep for $stage {
            fn sleep(duration: std::time::Duration) -> impl std::future::Future<Output = ()> {
                ::$krate::sleep(duration)
            }
        }
    };
    ($stage:ident, $krate:ident, spawn) => {
        impl $crate::rt::Spawn for $stage {
            fn spawn<F>(fut: F) -> impl std::future::Future<Output = F::Output> + 'static
            where
                F: std::future::Future + 'static,
                F::Output: 'static,
            {
                ::$krate::spawn(fut)
            }
        }
    };
    ($stage:ident, $krate:ident, blocking) => {
        impl $crate::rt::Blocking for $stage {
            fn spawn_blocking<T, F>(f: F) -> impl std::future::Future<Output = T>
            where
                F: FnOnce() -> T + Send + 'static,
                T: Send + 'static,
            {
                ::$krate::spawn_blocking(f)
            }
        }
    };
    ($stage:ident, $krate:ident, net) => {
        impl $crate::rt::Net for $stage {
            type Listener = ::$krate::net::TcpListener;
            type Stream = ::$krate::net::TcpStream;

            async fn bind(addr: std::net::SocketAddr) -> std::io::Result<Self::Listener> {
                ::$krate::net::TcpListener::bind(addr)
            }

            fn local_addr(listener: &Self::Listener) -> std::io::Result<std::net::SocketAddr> {
                listener.local_addr()
            }

            async fn accept(listener: &Self::Listener) -> std::io::Result<Self::Stream> {
                Ok(listener.accept().await?.0)
            }

            async fn connect(addr: std::net::SocketAddr) -> std::io::Result<Self::Stream> {
                ::$krate::net::TcpStream::connect(addr).await
            }
        }

        impl $crate::rt::Stream for ::$krate::net::TcpStream {
            async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                ::$krate::net::TcpStream::read(self, buf).await
            }

            async fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
                ::$krate::net::TcpStream::write_all(self, buf).await
            }
        }
    };
}
