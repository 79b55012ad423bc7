fn main() -> std::process::ExitCode {
    tgsess::run()
}
