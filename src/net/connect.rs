//! Resolving an address and opening a TCP connection within a deadline:
//! the first steps of every family's `Client::connect`.

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, ToSocketAddrs};

/// Any byte stream a client can run over (a `TcpStream`, a tunnel,
/// `tokio::io::duplex` in tests).
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// Why a TCP connection could not be opened.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// The operating system refused (unreachable, refused, reset...).
    Io(std::io::Error),
    /// No connection within the timeout.
    TimedOut {
        /// The address tried.
        peer: SocketAddr,
        /// The timeout.
        after: Duration,
    },
}

/// The first address `addr` resolves to; an address that resolves to
/// nothing is a `NotFound` error.
pub(crate) async fn resolve(addr: impl ToSocketAddrs) -> std::io::Result<SocketAddr> {
    tokio::net::lookup_host(addr).await?.next().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "address resolved to nothing")
    })
}

/// A TCP connection to `peer` within `timeout`, with Nagle's algorithm off
/// (every protocol here is request/reply with small frames).
pub(crate) async fn tcp(peer: SocketAddr, timeout: Duration) -> Result<TcpStream, ConnectError> {
    let stream = tokio::time::timeout(timeout, TcpStream::connect(peer))
        .await
        .map_err(|_| ConnectError::TimedOut {
            peer,
            after: timeout,
        })?
        .map_err(ConnectError::Io)?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn resolves_and_connects_within_the_timeout() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        assert_eq!(resolve(addr).await.unwrap(), addr);
        let s = tcp(addr, Duration::from_secs(5)).await.unwrap();
        assert!(s.nodelay().unwrap());
        assert_eq!(
            resolve(&[][..] as &[SocketAddr]).await.unwrap_err().kind(),
            std::io::ErrorKind::NotFound
        );
    }

    #[tokio::test]
    async fn a_refused_connection_is_an_io_error() {
        // Bind, learn the port, close: nothing listens there any more.
        let addr = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        match tcp(addr, Duration::from_secs(5)).await {
            Err(ConnectError::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused),
            other => panic!("{other:?}"),
        }
    }
}
