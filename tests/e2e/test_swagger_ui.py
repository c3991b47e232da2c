"""Swagger UI in headless Chromium: authorize with client credentials, then execute a call."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import REQUIRE_INFRA
from tests.e2e.test_runtimes import free_port, wait_ready

REPO = Path(__file__).resolve().parents[2]
ADMIN_ID, ADMIN_SECRET = "swagger-admin", "swagger-admin-secret-for-tests"


def browser() -> webdriver.Chrome:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if REQUIRE_INFRA:
            pytest.fail("chromium and chromedriver are required (make test installs them)")
        pytest.skip("chromium / chromedriver not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1280,1600"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


def test_authorize_and_execute_in_swagger_ui(tmp_path: Path) -> None:
    env = {**os.environ, "JOBLINK_VAR": str(tmp_path / "var"), "JOBLINK_ADMIN_CLIENT_ID": ADMIN_ID,
           "JOBLINK_ADMIN_CLIENT_SECRET": ADMIN_SECRET}
    subprocess.run([sys.executable, "-m", "kit.cli", "migrate", "all"], env=env, cwd=REPO, check=True,
                   capture_output=True)
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "kit.cli", "serve", "embedded", "--port", str(port)],
            env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
        )
    driver = None
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", server, log)
        driver = browser()
        wait = WebDriverWait(driver, 30)
        driver.get(f"http://127.0.0.1:{port}/docs")
        wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, "button.authorize"))).click()
        wait.until(ready.visibility_of_element_located((By.ID, "client_id_clientCredentials"))).send_keys(ADMIN_ID)
        driver.find_element(By.ID, "client_secret_clientCredentials").send_keys(ADMIN_SECRET)
        driver.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper button.authorize").click()
        wait.until(ready.visibility_of_element_located((By.XPATH, "//div[@class='auth-btn-wrapper']/button[.='Logout']")))
        driver.find_element(By.CSS_SELECTOR, "button.btn-done").click()

        operation = wait.until(
            ready.presence_of_element_located((By.CSS_SELECTOR, "[id^='operations-reference-enumerations']"))
        )
        def press(css: str) -> None:
            button = wait.until(lambda _d: operation.find_element(By.CSS_SELECTOR, css))
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
            wait.until(lambda _d: button.is_displayed() and button.is_enabled())
            button.click()

        press(".opblock-summary")
        press(".try-out__btn")
        press("button.execute")
        status = wait.until(
            lambda _d: operation.find_element(By.CSS_SELECTOR, ".live-responses-table tbody .response-col_status")
        )
        body = operation.find_element(By.CSS_SELECTOR, ".live-responses-table tbody .response-col_description").text
        driver.save_screenshot(str(tmp_path / "swagger-ui.png"))
        assert status.text.strip() == "200", body
        assert "Thợ bậc" in body  # the Vietnamese labels came back through the UI
    finally:
        if driver is not None:
            driver.quit()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
