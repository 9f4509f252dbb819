// The phone's location for a printed poster code: asked only on that page, filled into the
// form's hidden fields. The page works without this script; the scan is then judged
// without a location (a poster code then answers outside_geofence).
(function () {
  var form = document.getElementById('checkin');
  var status = document.getElementById('locate-status');
  if (!form || form.getAttribute('data-needs-location') !== 'yes' || !status) return;
  function say(text) { status.textContent = text; }
  if (!navigator.geolocation) { say('此浏览器无法提供位置。请改扫场所屏幕上的二维码，或请联络员补签。'); return; }
  say('正在获取您的位置……');
  navigator.geolocation.getCurrentPosition(function (p) {
    form.elements.latitude.value = p.coords.latitude;
    form.elements.longitude.value = p.coords.longitude;
    form.elements.accuracy_m.value = p.coords.accuracy;
    say('已获取位置，请点击“签到”。');
  }, function () {
    say('未能获取位置。请在手机“设置”中允许微信或浏览器使用位置信息，然后刷新本页；也可改扫场所屏幕上的二维码，或请联络员补签。');
  }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
})();
