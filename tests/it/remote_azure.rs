//! The Azure Blob backend against Azurite, started by `scripts/test.sh`
//! (`GIT_DVC_TEST_AZURE_CONNECTION_STRING`; `GIT_DVC_TEST_AZURITE` for private
//! instances). Containers are created with the Azure SDK that `dvc[azure]` installs.

use crate::common;

use std::process::Command;

use common::remotes::{self, FaultServer, RemoteSetup, Server};
use common::TestEnv;

const ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn connection_string(port: u16) -> String {
    format!(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={ACCOUNT_KEY};\
         BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )
}

fn remote(conn: &str, container: &str) -> RemoteSetup {
    RemoteSetup::new(
        format!("azure://{container}/dvc/store"),
        &[("connection_string", conn)],
    )
}

#[test]
fn git_dvc_push_then_dvc_pull() {
    let Some(conn) = remotes::server_var("GIT_DVC_TEST_AZURE_CONNECTION_STRING") else {
        return;
    };
    let container = remotes::unique("pushpull").to_lowercase();
    remotes::create_azure_container(&conn, &container);
    remotes::push_then_dvc_pull(&TestEnv::new(), &remote(&conn, &container));
}

#[test]
fn block_list_upload_then_dvc_pull() {
    let Some(conn) = remotes::server_var("GIT_DVC_TEST_AZURE_CONNECTION_STRING") else {
        return;
    };
    let container = remotes::unique("streamed").to_lowercase();
    remotes::create_azure_container(&conn, &container);
    remotes::above_multipart_threshold_then_dvc_pull(&TestEnv::new(), &remote(&conn, &container));
}

#[test]
fn dvc_push_then_git_dvc_status_in_sync() {
    let Some(conn) = remotes::server_var("GIT_DVC_TEST_AZURE_CONNECTION_STRING") else {
        return;
    };
    let container = remotes::unique("dvcpush").to_lowercase();
    remotes::create_azure_container(&conn, &container);
    remotes::dvc_push_then_status(&TestEnv::new(), &remote(&conn, &container));
}

#[test]
fn dvc_push_then_git_dvc_fetch_like_dvc_fetch() {
    let Some(conn) = remotes::server_var("GIT_DVC_TEST_AZURE_CONNECTION_STRING") else {
        return;
    };
    let container = remotes::unique("fetch").to_lowercase();
    remotes::create_azure_container(&conn, &container);
    remotes::dvc_push_then_git_dvc_fetch(&TestEnv::new(), &remote(&conn, &container), None);
}

#[test]
fn account_name_and_key_options() {
    let Some(conn) = remotes::server_var("GIT_DVC_TEST_AZURE_CONNECTION_STRING") else {
        return;
    };
    // An explicit account_key option next to the connection string wins, as in adlfs.
    let container = remotes::unique("acctkey").to_lowercase();
    remotes::create_azure_container(&conn, &container);
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 2);
    remotes::configure_remote(
        &repo,
        &RemoteSetup::new(
            format!("azure://{container}"),
            &[
                ("connection_string", conn.as_str()),
                ("account_key", ACCOUNT_KEY),
            ],
        ),
    );
    repo.git_dvc(&["push"])
        .assert_stdout_is(&common::pushed_line(remotes::SAMPLE_OBJECTS));
    repo.dvc(&["push"])
        .assert_stdout_is(&common::pushed_line(0));
}

#[test]
fn server_stopped_mid_push() {
    let Some([azurite]) = remotes::server_vars(["GIT_DVC_TEST_AZURITE"]) else {
        return;
    };
    let env = TestEnv::new();
    let port = remotes::free_port();
    let data = env.mkdir("azurite-data");
    let log = env.path("azurite.log");
    let conn = connection_string(port);
    let start = || {
        let mut cmd = Command::new(&azurite);
        cmd.args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
            .arg("--location")
            .arg(&data)
            .args(["--skipApiVersionCheck", "--loose"]);
        Server::start("azurite", cmd, port, &log)
    };
    let prepare = || remotes::create_azure_container(&conn, "fault");
    let has_objects = || remotes::dir_has_files(&data.join("__blobstorage__"));
    remotes::stop_mid_push(
        &env,
        &remote(&conn, "fault"),
        FaultServer {
            start: &start,
            prepare: &prepare,
            has_objects: &has_objects,
        },
    );
}
