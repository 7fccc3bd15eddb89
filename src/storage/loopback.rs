//! For unit tests: reading one HTTP/1.1 request off a socket on 127.0.0.1, where a test
//! stands in for a service no server here can play (what a client sent, or an answer
//! the emulators never give).

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

/// Listens on 127.0.0.1 and hands the first connection (reader and writer, reads bounded
/// to 10 s) to `serve` on a thread; returns the address and the thread.
pub fn serve_one_connection<T: Send + 'static>(
    serve: impl FnOnce(&mut BufReader<TcpStream>, &mut TcpStream) -> T + Send + 'static,
) -> (String, JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        serve(&mut reader, &mut stream)
    });
    (addr, handle)
}

/// Reads one request; returns its head (request line and headers). The body is read and
/// dropped, so the next request can follow on the same connection.
pub fn read_request(reader: &mut impl BufRead) -> String {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        head.push_str(&line);
    }
    let length = header_values(&head, "content-length")
        .first()
        .map_or(0, |v| v.parse::<usize>().unwrap());
    reader.read_exact(&mut vec![0; length]).unwrap();
    head
}

/// The values of header `name` in a request head.
pub fn header_values(head: &str, name: &str) -> Vec<String> {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim().to_string())
        .collect()
}
