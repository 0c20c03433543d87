//! How a dispatcher reaches its SystmOne client: TCP by default, pluggable for tests.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};

/// The default SystmOne Client Integration address: `127.0.0.1:40700`.
pub const DEFAULT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 40700);

/// A byte stream to a SystmOne client (a TCP socket, or an in-memory duplex stream in tests).
pub trait ByteStream: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> ByteStream for T {}

/// A boxed [`ByteStream`].
pub type BoxStream = Box<dyn ByteStream>;

/// The future a [`Connector`] returns.
pub type ConnectFuture = Pin<Box<dyn Future<Output = io::Result<BoxStream>> + Send>>;

/// Opens connections to one SystmOne client.
///
/// The dispatcher calls [`Connector::connect`] whenever it needs a connection (first use, and
/// after a connection was lost or abandoned); the connect timeout is applied by the caller.
pub trait Connector: Send + Sync + fmt::Debug {
    /// Opens a new connection.
    fn connect(&self) -> ConnectFuture;
}

/// Connects over TCP (the production transport).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TcpConnector {
    /// Where the SystmOne client listens.
    pub addr: SocketAddr,
}

impl TcpConnector {
    /// A connector for `addr`.
    #[must_use]
    pub fn new(addr: SocketAddr) -> Self {
        Self { addr }
    }
}

impl Default for TcpConnector {
    /// `127.0.0.1:40700`.
    fn default() -> Self {
        Self::new(DEFAULT_ADDR)
    }
}

impl Connector for TcpConnector {
    fn connect(&self) -> ConnectFuture {
        let addr = self.addr;
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as BoxStream)
        })
    }
}

/// A connector built from a closure, e.g. one returning the simulator's in-memory stream:
///
/// ```
/// use std::sync::Arc;
/// use systmone_client::{BoxStream, Connector, FnConnector};
/// use systmone_sim::{GatewayConfig, Organisation, Simulator};
///
/// # fn main() -> Result<(), systmone_sim::SimError> {
/// let gateway = Simulator::new(Organisation::builtin_default(), GatewayConfig::default())?;
/// let connector: Arc<dyn Connector> = Arc::new(FnConnector::new(move || {
///     let gateway = gateway.clone();
///     Box::pin(async move { Ok(Box::new(gateway.connect_in_memory()?) as BoxStream) })
/// }));
/// # let _ = connector;
/// # Ok(())
/// # }
/// ```
pub struct FnConnector<F> {
    connect: F,
}

impl<F> FnConnector<F>
where
    F: Fn() -> ConnectFuture + Send + Sync,
{
    /// Wraps `connect`.
    pub fn new(connect: F) -> Self {
        Self { connect }
    }
}

impl<F> fmt::Debug for FnConnector<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnConnector")
    }
}

impl<F> Connector for FnConnector<F>
where
    F: Fn() -> ConnectFuture + Send + Sync,
{
    fn connect(&self) -> ConnectFuture {
        (self.connect)()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn tcp_connector_reaches_a_loopback_listener() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 3];
            socket.read_exact(&mut buf).await.unwrap();
            buf
        });
        let mut stream = TcpConnector::new(addr).connect().await.unwrap();
        stream.write_all(b"abc").await.unwrap();
        assert_eq!(&server.await.unwrap(), b"abc");
        assert_eq!(TcpConnector::default().addr.port(), 40700);
    }

    #[tokio::test]
    async fn fn_connector_returns_the_closure_stream() {
        let connector = FnConnector::new(|| {
            Box::pin(async {
                let (client, _server) = tokio::io::duplex(64);
                Ok(Box::new(client) as BoxStream)
            })
        });
        assert!(connector.connect().await.is_ok());
        assert_eq!(format!("{connector:?}"), "FnConnector");
    }
}
