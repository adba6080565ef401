//! What the importer's work costs at the least, for the import benchmark's CPU target
//! (results: BENCHMARKS.md, "Import"): for the EPUBs given, the CPU time of inflating their
//! XHTML documents, and of inflating them and passing each through lol_html once, or through
//! the importer's own html5ever parse once (`scholia::epub::parse_fragment`, into rcdom).
//! The importer does the lol_html pass and two parses per chapter (the second checks that
//! the sanitized chapter is a fixed point), besides sanitizing, serializing and storing.
//!
//!     cargo bench --bench import_floor -- ROUNDS EPUB...
//!
//! Prints the median of ROUNDS for each step, in CPU seconds (user + system, this process).

use std::io::Read;

/// What is done with each document.
type Step = fn(&str);

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn parse(html: &str) {
    std::hint::black_box(scholia::epub::parse_fragment(html));
}

fn rewrite(html: &str) {
    let settings = lol_html::RewriteStrSettings::default();
    std::hint::black_box(lol_html::rewrite_str(html, settings).expect("lol_html pass"));
}

/// Inflates every XHTML document of `paths` and hands it to `step`; returns the bytes seen.
fn each_document(paths: &[String], step: Step) -> usize {
    let mut bytes = 0;
    for path in paths {
        let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut zip = zip::ZipArchive::new(file).unwrap_or_else(|e| panic!("{path}: {e}"));
        for i in 0..zip.len() {
            let mut entry = zip.by_index(i).expect("zip entry");
            let name = entry.name().map(|n| n.to_lowercase()).unwrap_or_default();
            if ![".xhtml", ".html", ".htm"]
                .iter()
                .any(|ext| name.ends_with(ext))
            {
                continue;
            }
            let mut text = String::new();
            if entry.read_to_string(&mut text).is_ok() {
                bytes += text.len();
                step(&text);
            }
        }
    }
    bytes
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (rounds, paths) = match args.split_first() {
        Some((rounds, paths)) if !paths.is_empty() => (rounds.parse::<usize>().ok(), paths),
        _ => (None, &args[..]),
    };
    let Some(rounds) = rounds.filter(|&n| n > 0) else {
        eprintln!("usage: cargo bench --bench import_floor -- ROUNDS EPUB...");
        std::process::exit(2);
    };
    let steps: [(&str, Step); 3] = [
        ("inflate", |_| {}),
        ("inflate + one lol_html pass", rewrite),
        ("inflate + one html5ever parse", parse),
    ];
    for (name, step) in steps {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..rounds {
            let start = cpu_seconds();
            bytes = each_document(paths, step);
            times.push(cpu_seconds() - start);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{name}: {:.3} CPU s (median of {rounds}), {bytes} bytes of XHTML",
            times[rounds / 2]
        );
    }
}
